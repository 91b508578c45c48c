"""Simplified Chinese by default; Traditional Chinese and English on request, remembered."""

import pytest


@pytest.mark.parametrize("lang, word, html_lang", [
    (None, "意见征集", "zh-Hans"), ("zh_Hant", "意見徵集", "zh-Hant"), ("en", "Consultation", "en"),
])
def test_home_page_in_each_language(client, lang, word, html_lang):
    html = client.get(f"/?lang={lang}" if lang else "/").get_data(as_text=True)
    assert word in html
    assert f'<html lang="{html_lang}">' in html


def test_the_choice_is_remembered_and_unknown_languages_ignored(client):
    client.get("/?lang=en")
    assert "Consultation" in client.get("/consultations").get_data(as_text=True)
    html = client.get("/?lang=xx").get_data(as_text=True)
    assert '<html lang="en">' in html


def test_every_message_has_an_english_and_traditional_translation():
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2] / "translations"
    for locale in ("en", "zh_Hant"):
        with (root / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            catalog = read_po(fh)
        missing = [m.id for m in catalog if m.id and not m.string]
        assert not missing, f"{locale}: {len(missing)} untranslated, e.g. {missing[:3]}"
