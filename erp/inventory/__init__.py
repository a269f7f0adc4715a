"""Stock (库存): warehouses, stock levels kept from an append-only record of stock moves, reservations
(库存预留) for orders, and reorder points (再订货点) for purchasing."""
