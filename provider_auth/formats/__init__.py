"""Date and number formats per language (FORMAT_MODULE_PATH), where Django's defaults do not fit.

English is the language of British customers here: "25 May 2026" and 24-hour times, not Django's
US default "May 25, 2026, 2:30 p.m.". German uses Django's own (de) formats unchanged.
"""
