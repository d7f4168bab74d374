"""Where connections come from: ``.bruin.yml``, one remote secret store, or a chain of them.

``registry.py`` lists the stores and opens them; ``view.py`` is what commands read
through. Store modules import their SDKs lazily, so choosing a store costs nothing
until a command actually opens it. Import from the module that holds a name: this
package imports none of them, so reading one module never loads the others.
"""
