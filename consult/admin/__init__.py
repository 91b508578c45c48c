"""The platform office's administration (F24): units, staff and roles, settings, audit log."""
