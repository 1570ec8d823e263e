"""The seed lecture's LeNet: its table at 28×28 with k = 5, and the same table in n and k.

Run:  python examples/lenet.py
"""

import symcnn as sc

n, k = sc.symbols("n k")

# The network of the slide, layer for layer (F.max_pool2d / F.relu become modules).
net = sc.Sequential(
    sc.Conv2d(1, 32, kernel_size=k),
    sc.MaxPool2d(kernel_size=3),
    sc.ReLU(),
    sc.Conv2d(32, 64, kernel_size=k),
    sc.MaxPool2d(kernel_size=2),
    sc.ReLU(),
    sc.View(-1, 256),
    sc.Linear(256, 200),
    sc.ReLU(),
    sc.Linear(200, 10),
    input_shape=(1, n, n),
)
mnist = net.subs({n: 28, k: 5})

print("The seed table: MNIST, 1×28×28 input, k = 5")
print()
print(sc.to_text(mnist))
print()
print(f"Total: {int(mnist.params):,} parameters, {int(mnist.products):,} products per sample.")
print()
print("The same network in closed form (input 1×n×n, kernels k×k), each formula above")
print("its value at n = 28, k = 5:")
print()
print(sc.to_text(net, at={n: 28, k: 5}))
print()
print("Every layer is valid exactly where these hold (the domain, simplified):")
for relation in net.constraints:
    print(f"  {sc.format_formula(relation)}")
print()
print(f"With k = 5 the smallest valid input is n = {net.min_input(n, {k: 5})} and the largest")
print(f"n = {net.largest(n, {k: 5})}: view(-1, 256) pins the features to 256, and PyTorch would")
print("silently fold a larger map into extra batch rows. At n = 40:")
print(f"  {net.violation({n: 40, k: 5})}")
