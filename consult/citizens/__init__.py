"""Optional citizen accounts: gather one's own comments, download and erase one's data."""
