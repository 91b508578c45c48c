"""Topics: comments making the same point in different words (issue 13, triage before answering).

Near-identical comments (a campaign's letters) are groups (consult/answers/groups.py); beyond
them, many people make one point each in their own words. `find_topics` finds those points:

1. each text is folded (`consult.textfold.normalise`: simplified, no punctuation) and equal
   texts are counted once;
2. TF-IDF over character 2- and 3-grams (scikit-learn; Chinese has no spaces, and character
   n-grams need no word list and no model download) makes each text a vector;
3. agglomerative clustering with average linkage over cosine distance joins texts while the
   mean distance between two clusters stays under THRESHOLD (average linkage does not chain
   two points together through a few texts that share only "建议" and "小区", as DBSCAN and
   single linkage do); clusters under MIN_TOPIC comments stay single comments. The distance
   matrix is quadratic, so at most SAMPLE distinct texts are clustered; the others join the
   topic whose centre is nearest if it is within the threshold;
4. each topic is labelled with its top terms: the n-grams of highest weight in its centre,
   a longer term replacing the shorter ones it contains.

A topic is a suggestion for answering, never a judgement: staff answer one topic at a time,
leave out the members that say something else, and every member keeps its own answer, so the
report lists each of them. Storing and answering topics: consult/answers/topics.py;
finding them runs as a job (consult/answers/jobs.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from consult.textfold import normalise

NGRAMS = (2, 3)  # characters per term: most Chinese words are two or three characters
THRESHOLD = 0.85  # mean cosine distance under which two clusters are one topic
MIN_TOPIC = 5  # smaller clusters are left as single comments
SAMPLE = 3_000  # distinct texts clustered (a 3 000² distance matrix: 72 MB); others assigned
LABEL_TERMS = 3  # words in a topic's label
LABEL_POOL = 12  # top n-grams they are joined from
# Words that say nothing about a point, left out of labels (they still count in clustering).
LABEL_STOP = frozenset({"我们", "我认为", "本人", "建议", "希望", "应当", "认为", "可以", "进行",
                        "有关", "以及", "对于", "关于", "意见", "一个", "这个", "没有", "非常"})


@dataclass
class FoundTopic:
    label: str
    members: list[tuple[int, float]]  # (comment id, closeness to the centre 0–1)


def _merge(a: str, b: str) -> str | None:
    """`a` and `b` joined where one ends as the other begins (业主安 + 主安装 → 业主安装), or
    the longer if one holds the other; None when they do not overlap by at least two
    characters (or one, for two-character terms)."""
    if a in b or b in a:
        return a if len(a) >= len(b) else b
    least = 1 if min(len(a), len(b)) == 2 else 2
    for first, second in ((a, b), (b, a)):
        for k in range(min(len(first), len(second)) - 1, least - 1, -1):
            if first[-k:] == second[:k]:
                return first + second[k:]
    return None


def _label(weights, terms: Sequence[str]) -> str:
    """The topic's top terms: the n-grams of highest weight at its centre, overlapping ones
    joined into longer words (业主安, 主安装, 安装充 → 业主安装充)."""
    top = [terms[i] for i in weights.argsort()[::-1][:LABEL_POOL] if weights[i] > 0]
    words: list[str] = []
    for term in top:
        for i, word in enumerate(words):
            merged = _merge(word, term)
            if merged is not None:
                words[i] = merged
                break
        else:
            words.append(term)
    # a join can make two words overlap: once more, in order
    joined: list[str] = []
    for word in words:
        for i, kept in enumerate(joined):
            merged = _merge(kept, word)
            if merged is not None:
                joined[i] = merged
                break
        else:
            joined.append(word)
    kept = [word for word in joined if word not in LABEL_STOP] or joined
    return " · ".join(kept[:LABEL_TERMS])[:200]


def find_topics(rows: Sequence[tuple[int, str]], *, threshold: float = THRESHOLD,
                min_topic: int = MIN_TOPIC, sample: int = SAMPLE,
                progress: Callable[[float], None] | None = None) -> list[FoundTopic]:
    """Topics among (comment id, text) rows, largest first. Pure: reads no database."""
    import numpy as np
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_distances
    from sklearn.preprocessing import normalize as l2

    by_text: dict[str, list[int]] = {}
    for comment_id, body in rows:
        text = normalise(body)
        if len(text) >= 4:  # "同意", "支持": nothing to cluster on
            by_text.setdefault(text, []).append(comment_id)
    texts = list(by_text)
    if len(texts) < 2 or len(rows) < min_topic:
        return []
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, min_df=2, max_df=0.3,
                                 sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # no term left after min_df/max_df: the texts have nothing in common
        return []
    if progress:
        progress(0.2)
    weight = np.array([len(by_text[t]) for t in texts], dtype=float)
    head = min(len(texts), sample)
    labels = np.full(len(texts), -1)
    labels[:head] = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average",
        distance_threshold=threshold).fit_predict(cosine_distances(matrix[:head]))
    if progress:
        progress(0.7)
    clusters = [np.flatnonzero(labels == k) for k in range(labels.max() + 1)]
    clusters = [ix for ix in clusters if weight[ix].sum() >= min_topic]
    if not clusters:
        return []
    centres = l2(np.vstack([
        np.asarray(matrix[ix].multiply(weight[ix][:, None]).sum(axis=0)) for ix in clusters]))
    if head < len(texts):  # the rest join the nearest topic, if near enough
        closeness = np.asarray(matrix[head:] @ centres.T)
        nearest = closeness.argmax(axis=1)
        near = closeness[np.arange(len(nearest)), nearest] >= 1 - threshold
        for offset in np.flatnonzero(near):
            k = nearest[offset]
            clusters[k] = np.append(clusters[k], head + offset)
    terms = vectorizer.get_feature_names_out()
    found = []
    for ix, centre in zip(clusters, centres, strict=True):
        closeness = np.asarray(matrix[ix] @ centre).ravel()
        members = [(comment_id, round(float(score), 3))
                   for i, score in zip(ix, closeness, strict=True)
                   for comment_id in by_text[texts[i]]]
        found.append(FoundTopic(label=_label(centre, terms), members=members))
    found.sort(key=lambda topic: (-len(topic.members), topic.label))
    if progress:
        progress(1.0)
    return found
