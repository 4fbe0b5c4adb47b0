"""What every stage writes and reads back: predictions files, metrics, markdown reports and plots.

Training, evaluation, the baselines and the recipes share this format, so that ``emonet compare``
puts any two runs side by side; it sits below them all and knows no model.
"""
