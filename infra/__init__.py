"""Infrastructure: the local stack (infra/local) and, later, the cloud deployment."""
