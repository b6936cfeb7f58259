"""Helpers shared by the hidden tests of one assignment (``autograder.hidden.<assignment>``).

Imported only from the hidden parts of test cells, so they run in the trusted
test process; they reach the student's objects only through the proxies and
the helpers of :mod:`autograder.course`.
"""
