import wsrun

rows = wsrun.read('image_*.png')   # one dict per file, in the files' order
print(len(rows), "rows;", rows[0]["path"], rows[0]["width"], "x", rows[0]["height"])
