"""nbgrader configuration of the course.

The folder names are nbgrader's own configuration: solutions/ holds the source
notebooks (solutions and hidden tests), exercises/ the released notebooks.
"""

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# The gradebook stays nbgrader's default, gradebook.db at the course root (git-ignored), where
# `jupyter-book clean` and `make clean` never delete it.

# A student who deletes a test cell must not silently escape it.
c.OverwriteCells.add_missing_cells = True

# Per-cell timeout (seconds) when nbgrader itself executes a notebook.
c.ExecutePreprocessor.timeout = 60
c.Execute.timeout = 60

# Released notebooks carry no outputs; feedback never shows hidden tests.
c.ClearOutput.enabled = True
c.ClearHiddenTests.enabled = True
