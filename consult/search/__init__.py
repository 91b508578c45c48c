"""Search (F19): the index of everything public and the one engine that asks it.

A read model above the domains (`.importlinter`): `models` (the index table and the database's
full-text index), `indexing` (kept current after every flush; `reindex`), `indexer` (the rows
of citizens' new comments, written after the commit in batches), `engine` (ranked,
filtered, highlighted results) and `params` (the query string, checked alike for the page and
the API). Its page is `consult.search.views`.
"""
