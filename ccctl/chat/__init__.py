"""The web chat: the patients' widget and its assistant, sign-in inside the chat, agents' chats (docs/chat.md)."""
