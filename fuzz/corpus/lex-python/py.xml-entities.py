from lxml import etree

# ruleid: py.xml-entities
parser = etree.XMLParser(resolve_entities=True)
# ok: py.xml-entities
safe = etree.XMLParser(resolve_entities=False, no_network=True)
