"""The grading service (installed as handcalc.web): Flask app factory, blueprints, models.

``create_app`` lives in :mod:`handcalc.web.app`; production runs
``gunicorn 'handcalc.web.app:create_app()'``, one machine ``handcalc serve``.
"""
