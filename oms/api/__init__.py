"""The REST API (django-ninja). It imports the bounded contexts; they never import it."""
