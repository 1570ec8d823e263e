"""Attention's cost as the image grows: ViT-B/16 against Swin-T, in closed form.

Both networks come from symcnn.models, written with symcnn's layers and equal to
torchvision's vit_b_16 and swin_t at 224×224. A ViT attends over all its tokens, so its
products grow with the square of the token count; a Swin attends within 7×7 windows, so
its products grow with the number of windows, linearly in H·W.

Run:  python examples/attention_cost.py
"""

from symcnn import format_formula
from symcnn.models import swin, vit

networks = {"ViT-B/16": vit(), "Swin-T": swin()}

print("Leading term of the products as the image grows (H = W):")
for name, net in networks.items():
    print(f"  {name:9}{format_formula(net.leading_term('products', 'H'))}")
print()
print("Products per image, and their growth over 224×224:")
print(f"  {'size':<9}" + "".join(f"{name:>28}" for name in networks))
base = {name: int(net.subs({"H": 224, "W": 224}).products) for name, net in networks.items()}
for size in (224, 448, 896):
    row = ""
    for name, net in networks.items():
        products = int(net.subs({"H": size, "W": size}).products)  # exact, an integer
        row += f"{products:>20,} ({products / base[name]:4.1f}×)"
    print(f"  {size:>4}×{size:<4}{row}")
