"""Helpers shared by the hidden tests of one assignment: ``autograder.hidden.<assignment>``.

Imported only from the hidden parts of test cells. The student's functions and
classes are passed in as arguments (they are proxies when a notebook is
graded), and whatever the helpers look at comes back from them as plain data
or through the course helpers of :mod:`autograder.course`, so a helper means
the same in a student's Jupyter and in the grader.
"""
