"""`flatpeak-check`: black-box conformance of a running deployment, as FlatPeak's onboarding
team would test a provider.

It drives the deployment over HTTP like a browser (cookie jar, HTML forms, CSRF, redirects
followed one by one) and plays the device maker through the deployment's sandbox, which must be
enabled (a staging server). It needs only `requests` and the standard library — no Django, no
settings, nothing of the server's code — so it runs from any machine given the deployment's URL
and a test customer's login. One line per check, a summary, exit code 0 only if every check
passed.

Modules, one job each: `pages` (HTML as a browser reads it), `browser` (the HTTP session),
`checks` (what is checked), `report` (the lines printed), `cli` (options, one run, exit codes).
`manage.py flatpeak_check` is a thin wrapper around `cli`.
"""
