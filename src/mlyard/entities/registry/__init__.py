"""What the registry versions: data assets, models, logged models, promotions, asset specs."""
