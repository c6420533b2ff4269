"""Repositories: the only code that talks to AWS. They turn AWS errors into domain errors."""
