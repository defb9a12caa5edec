"""The node canvas: a QGraphicsScene mirroring the graph and its view.

scene.py       CanvasScene: mirrors graph events, holds items, routes gestures
node_item.py   NodeItem and PortItem
edge_item.py   EdgeItem (a wire) and the temporary wire of a drag
interactions.py gestures: new wire, move nodes (start / update / end / cancel)
view.py        CanvasView: zoom, pan, drops from the palette, grid
minimap.py     overview of large graphs
layout.py      auto-layout (pure Python)
"""
