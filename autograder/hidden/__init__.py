"""Helpers shared by the hidden tests of one assignment (``autograder.hidden.<assignment>``).

Only the hidden parts of test cells import these modules; they run in the
trusted test process and never in a student's process.
"""
