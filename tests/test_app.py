"""The application object: Flask, remembering which of its functions are plain ones."""

from __future__ import annotations

import pytest

from consult import ConsultFlask


def test_a_plain_function_is_used_as_it_is_and_remembered(app):
    def hook():
        return None

    assert isinstance(app, ConsultFlask)
    assert app.ensure_sync(hook) is hook
    assert hook in app._plain  # asked once: the next request does not ask again
    assert app.ensure_sync(hook) is hook


def test_a_bound_method_is_not_kept(app):
    class Hooks:
        def hook(self):
            return None

    method = Hooks().hook
    assert app.ensure_sync(method) == method
    assert method not in app._plain  # a new object on every access: never stored


def test_a_coroutine_is_still_flasks_to_wrap(app):
    async def view():
        return "ok"

    # Flask wraps it (or, without its async extra installed, says so): never taken as plain.
    try:
        wrapped = app.ensure_sync(view)
    except RuntimeError as error:
        assert "async" in str(error)
    else:
        assert wrapped is not view
    assert view not in app._plain


@pytest.mark.parametrize("path", ["/healthz", "/"])
def test_pages_still_answer(client, path):
    assert client.get(path).status_code == 200
