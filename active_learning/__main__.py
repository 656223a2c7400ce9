from active_learning.cli import main

main()
