"""Products: SKUs with their physical and tax data, categories, bundles (组合装) and gifts."""
