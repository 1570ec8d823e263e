"""Cost as a function of input size, from a one-line spec: a formula and its domain.

The spec is the command line's (`symcnn formula SPEC --input 1,n,n`), parsed safely by
symcnn.parse_spec; every name that is not a layer is a positive-integer symbol.

Run:  python examples/derive_formula.py
"""

from symcnn import format_formula, parse_spec, symbols

SPEC = (
    "Conv2d(1, 32, k) | MaxPool2d(3) | ReLU | Conv2d(32, 64, k) | MaxPool2d(2) | ReLU"
    " | Flatten | LazyLinear(200) | ReLU | Linear(200, 10)"
)

net = parse_spec(SPEC, input_shape="1,n,n")
n, k = symbols("n k")  # the spec's n and k: the same positive-integer symbols

print("Products per sample, input 1×n×n, kernels k×k:")
print(f"  {format_formula(net.products)}")
print(f"  leading term as n grows: {format_formula(net.leading_term('products', n))}")
print()
print("Valid exactly where:")
for relation in net.constraints:
    print(f"  {format_formula(relation)}")
print(f"Smallest input at k = 5: n = {net.min_input(n, {k: 5})}")
print(f"Products at n = 28, k = 5: {net.subs({n: 28, k: 5}).products}")
