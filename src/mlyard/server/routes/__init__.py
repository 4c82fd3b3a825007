"""Route families of the REST API, one module per concept; `app.create_app` includes them."""
