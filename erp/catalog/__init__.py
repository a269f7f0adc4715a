"""The product catalogue (商品目录): products with their unit and VAT rate, price lists and volume prices."""
