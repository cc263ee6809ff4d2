"""The pages: server-rendered Jinja2 templates with small plain JavaScript, no build step."""
