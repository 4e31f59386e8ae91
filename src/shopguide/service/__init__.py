"""The HTTP service: FastAPI app factory, lifespan, routes, resilience and metrics."""
