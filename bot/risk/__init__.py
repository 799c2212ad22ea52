"""Risk detection in plain Python (no Rasa import), shared by Rasa and the channel gateway."""
from bot.risk.detector import Assessment, RiskDetector, get_detector

__all__ = ["Assessment", "RiskDetector", "get_detector"]
