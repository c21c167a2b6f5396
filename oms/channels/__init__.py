"""Sales channels and shops (渠道/店铺): where orders come from and where stock is sold."""
