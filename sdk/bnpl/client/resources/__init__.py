"""The resource namespaces of the client, one module per resource, each with its sync and async class."""
