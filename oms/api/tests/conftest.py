"""API tests run in the orders test world (a TMALL channel, the tea SKUs, orders taken in for real): the
`tmall`, `skus` and `make_order` fixtures of `oms.testing.orders`, loaded for every test by the root conftest."""
