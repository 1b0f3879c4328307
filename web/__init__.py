"""The grading service (installed as handcalc.web): Flask app factory, blueprints, models."""
