"""Helpers shared by the hidden tests of one assignment each (``autograder.hidden.<assignment>``).

Import them only from the hidden parts of test cells: they run in the trusted
test process and reach a student's code only through calls with plain data.
"""
