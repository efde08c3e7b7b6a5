"""The arena: friends and the person chat with two anonymous variants side by side and vote for the one that
sounds more like the person, judge "Real or clone?" against held-out real replies, and rate single replies
1-5; everything they do is kept in one store (SQLite by default, PostgreSQL when shared) and turned into
ratings with their uncertainty."""
