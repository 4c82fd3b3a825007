"""SQLAlchemy tables, migrations and queries; no business rules here."""
