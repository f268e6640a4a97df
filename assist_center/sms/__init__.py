"""SMS: approved templates, pluggable backends (settings.SMS_BACKEND) and the queue/deliver services.

Callers use `assist_center.sms.services.sms_queue`; nothing sends an SMS inside a request.
"""
