"""Split and merge (拆单/合单, S1–S7) and order lineage (追踪溯源).

A context of its own, above orders, stock, review and fulfilment: a split or merge touches all of
them in one transaction (money, reservations, stockouts, interceptions, allocation), so it imports
them and none of them imports it.
"""
