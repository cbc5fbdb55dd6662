"""The reader of text dumps (one text box per line group, page breaks as blank lines) of forms.
Entry point: `extract.text.reader.read_text_dump`."""
