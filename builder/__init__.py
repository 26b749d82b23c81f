"""scorm-builder: course files in YAML and Markdown to SCORM packages."""

__version__ = "0.1.0"
