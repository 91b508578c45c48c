"""Bulk data (F21): every public consultation, published comment (masked, with its answer once
the report is out) and published policy as CSV or XLSX, streamed. A read model above the
domains; its page is `consult.opendata.views` (`/data`)."""
