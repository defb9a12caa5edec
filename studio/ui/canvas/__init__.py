"""The node canvas: a QGraphicsScene mirroring the graph and its view.

scene.py       CanvasScene: mirrors graph events, holds items, routes gestures
node_item.py   NodeItem and PortItem
edge_item.py   EdgeItem (a wire) and the temporary wire of a drag
interactions.py gestures: new wire, move nodes (start / update / end / cancel)
view.py        CanvasView: zoom, pan, drops from the palette, grid
minimap.py     overview of large graphs
callout.py     why a wire was refused, at the drop point, with its fix as a button
refusal.py     the fixes a refusal suggests, as edits (pure Python)
layout.py      auto-layout (pure Python)
"""
