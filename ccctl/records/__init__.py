"""The database: the tables (models/, one module per area), engines and sessions, migrations, the call records store and the audit log."""
