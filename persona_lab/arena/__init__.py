"""The arena: friends and the person chat with two anonymous variants side by side and vote for the one that
sounds more like the person, judge "Real or clone?" against held-out real replies, and rate single replies
1-5 (battle.py, app.py). Everything they do is kept in the vote store, persona_lab/workspace/votes.py
(SQLite by default, PostgreSQL when shared), and turned into ratings with their uncertainty by
persona_lab/ratings.py: the evaluation reads both, and a stage never imports another stage."""
