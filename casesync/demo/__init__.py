"""The demo: four regions of two real agreements exchanging case traffic, end to end.

苏州 320500 ↔ 银川 640100 (the Suzhou–Yinchuan framework) and 如东 320623 ↔ 桐乡 330483 (the
list made for the Tongxiang company's plant in Rudong), each region its own process with its own
database, over one Kafka broker; ``casesync demo`` runs it and prints what happened.
"""
