"""HTTP routes, one module per area; each route only parses, delegates and answers."""
