"""Grading of the course's nbgrader exercises, and the checks hidden tests use.

``python -m autograder grade ASSIGNMENT SUBMISSIONS`` grades a whole class;
see :func:`autograder.grading.grade` for the Python entry point.
"""

__all__ = ["__version__"]
__version__ = "1.0.0"
