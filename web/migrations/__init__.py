"""The service's schema changes, as Alembic revisions (``versions/``): ``handcalc db upgrade`` and
the service's start apply them (:mod:`handcalc.web.migrate`)."""
