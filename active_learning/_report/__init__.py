"""What a campaign shows: the status summary and table (``scout status``), and the plots and
HTML page of ``scout report``.
"""
