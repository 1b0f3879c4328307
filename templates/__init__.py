"""Jinja2 templates and CSS for worksheets, answer keys and worked solutions
(installed as handcalc.templates)."""
