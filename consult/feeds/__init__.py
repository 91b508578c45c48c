"""Feeds (F20): the Atom feed of what happens to public consultations and policies, and
iCalendar files of comment windows. A read model above the domains; every link in them is
built on BASE_URL (`consult.urls`), never on the request's Host."""
